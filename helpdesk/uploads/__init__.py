"""Uploaded files: what they are by their bytes, and images made safe to store and serve."""
