"""mdboard: a plain-text work board for e-commerce operations teams.

Cards are Markdown files with YAML front matter in a git repository; the folder a
card sits in is its state, and every change is a git commit.
"""

__version__ = "0.1.0"
