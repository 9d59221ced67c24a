"""RNN Atelier: word embeddings and recurrent networks on real fashion text."""
