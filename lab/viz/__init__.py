"""Plotting helpers shared by the questions (matplotlib, headless)."""
