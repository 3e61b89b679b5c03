"""webshop."""
