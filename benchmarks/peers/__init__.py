"""Peer simulators, loaded only when importable (``make bench-peers`` installs them)."""
