"""Worked what-if examples: scenario files to copy and edit."""
