"""The report's plots: a chart as data (:mod:`.chart`), drawn as static SVG (:mod:`.svg`),
and one module per chapter that builds its chart from the plan and the chapter's models."""
