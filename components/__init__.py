"""Pulumi ComponentResources of the speech translation backend, one package per component."""
