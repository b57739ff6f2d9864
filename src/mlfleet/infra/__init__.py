"""Chapter 2, Large-Scale ML Infrastructure: roofline model and host probe."""
