"""Teaching material: the KL divergence widget, the live 2-D lab, lessons and the demo runs."""
