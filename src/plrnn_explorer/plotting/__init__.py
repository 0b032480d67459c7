"""Matplotlib plotting functions. Each takes an optional ``ax=`` and returns it.

Sub-modules: ``phase`` (phase portraits), ``bifurcation`` (bifurcation
diagrams and maps), ``training`` (loss curves and landscapes).
"""
