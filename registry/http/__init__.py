"""HTTP surfaces over the same commands and read models."""
