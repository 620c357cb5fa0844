"""The site kept live: live (watch the board, settle, rebuild through the builder it is
given) and http (serve the output folder, reload open tabs). Imports site and below.
"""
