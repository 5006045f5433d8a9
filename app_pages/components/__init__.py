"""Pieces the pages share: run pickers, cached models, pictures, evidence blocks, evaluations."""
