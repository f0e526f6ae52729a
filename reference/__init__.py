"""Reference solutions: the same files and public API as exercises/, solved."""
