"""`python -m touchpoint`: the same CLI as the `touchpoint` command."""

from touchpoint.cli import main

main()
