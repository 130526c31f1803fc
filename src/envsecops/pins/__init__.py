"""pin-check: find every reference in a repository that is not pinned immutably."""
