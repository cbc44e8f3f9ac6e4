"""Helpers shared by the test suite: real photos, a live conch, an image server."""
