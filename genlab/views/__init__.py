"""What the pages and the command line show, free of Streamlit.

    overview      progress and time left, the runs worth viewing, the fairest pair, the class's rows
    metric_info   each metric's name, meaning, better direction and printed form, written once
    pictures      image grids and point scatters as arrays, PNG and GIF bytes, a snapshot's picture
    figures       Plotly figures: curves, latents, metrics, lessons' measurements
    palette       the colours of real and generated data
"""
