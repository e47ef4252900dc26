"""Tests of the attachment storage backends."""
