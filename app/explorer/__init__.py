"""The embedding explorer's logic, one module per idea; nothing here imports Streamlit
(``app/ui/explorer.py`` caches the heavy pieces, ``pages/embeddings.py`` lays out the widgets).

- ``words``: read a word, or a list of words, out of whatever was typed
- ``tools``: analogy (with curated examples per model), odd one out, similarity, two models compared
- ``space``: the precomputed layouts, placing words outside them, colourings, re-projection
- ``scenes``: what the point-cloud plot draws (the cloud, marked words, links, the framing)
- ``link``: the view that lives in the page's URL
"""
