"""The sync engine: plain Python, no Django models, no HTTP, no database (see DESIGN.md, "The data path")."""
