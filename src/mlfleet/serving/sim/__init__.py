"""The serving simulator: request-level and iteration-level discrete-event engines."""
