"""Tests over ../shared/corpus: real repositories against independently counted figures."""
