"""The site templates, CSS and script (shipped inside the wheel as mdboard.templates)."""
