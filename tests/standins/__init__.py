"""Real HTTP stand-ins for the destination APIs (127.0.0.1, background threads)."""
