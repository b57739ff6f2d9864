"""Book table builders, one module per chapter; each function returns a BookTable."""
