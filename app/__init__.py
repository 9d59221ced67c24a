"""RNN Atelier: word embeddings and recurrent networks on real fashion text."""

from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent  # the checkout: model_store/, docs/, data/ and checkpoints/ sit here
