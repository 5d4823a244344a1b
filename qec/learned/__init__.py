"""Learned decoders: the detector layout of a code, on-the-fly training data, the transformer."""
