"""Harness for the herd integration tests: real `herd` processes, real sockets, a local
HTTPS places upstream and a throw-away CA. Standard library only."""
