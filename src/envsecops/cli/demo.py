"""`envsecops demo`: the whole chain on this machine, on loopback, with nothing to configure."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `demo`."""
    parser = subparsers.add_parser("demo", help="run the local demo of the chain")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo."""
    from envsecops.demo.run import run_demo

    return run_demo()
