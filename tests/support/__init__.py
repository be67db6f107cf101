"""Helpers that tests in several folders share: where the repository and its config are, copies of the config
with some lines changed, and running the `hubsync` command in a subprocess."""
