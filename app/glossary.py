"""The words of the field in plain words: one glossary, opened from the title row on every part of the
page, and the help icons that quote it where a word first appears (``explain``)."""

from __future__ import annotations

import streamlit as st

# term -> plain words. Written here (never outside text), read by students who have never met a VAE.
TERMS = {
    "latent space, code z": "The short list of numbers the encoder squeezes an image into. The map draws "
    "where each test image's code lands.",
    "encoder, decoder": "Two neural networks: the encoder turns an image into a code, the decoder turns a "
    "code back into an image.",
    "mu, sigma (z_mean, z_log_var)": "What the encoder answers for an image: mu (z_mean in the code) is "
    "its best guess of the code, sigma how unsure it is. The model stores log(sigma²) as z_log_var.",
    "epsilon": "Random numbers from a standard normal distribution: z = mu + sigma × epsilon draws one "
    "code from the encoder's cloud.",
    "prior, N(0, I)": "The cloud codes should come from before any image is seen: a round bell curve at "
    "the centre of the map. New images are made by decoding draws from it.",
    "KL (Kullback-Leibler divergence)": "How far one cloud is from another, in nats. The VAE pays the KL "
    "of each image's cloud from the prior, which keeps the codes packed round the centre.",
    "nats": "Units of surprise (information), like bits but with natural logarithms: 1 nat is about "
    "1.44 bits.",
    "−ELBO (negative evidence lower bound)": "What the VAE lowers in training: reconstruction error plus "
    "KL. The evidence is how likely the model finds an image; the ELBO is a lower bound on it, so the "
    "−ELBO is at least the true surprise.",
    "Bernoulli, binary cross-entropy": "The decoder gives each pixel a probability of ink (a Bernoulli "
    "coin). Binary cross-entropy is how surprised those coins are by the real pixels: the "
    "reconstruction error, in nats.",
    "logits": "The decoder's raw outputs before they are squashed into probabilities between 0 and 1.",
    "entropy floor": "The reconstruction error no model can beat on this data: grey pixels are "
    "uncertain by themselves. 'Nats above the floor' is what a model could still improve.",
    "importance-weighted NLL (IWAE)": "A closer estimate of the true surprise −log p(x) than the −ELBO, "
    "averaged over several codes drawn per image; lower is better.",
    "5-NN accuracy": "Take a test image's 5 nearest codes: how often most of them share its class. High "
    "means classes sit apart on the map, although training never saw a label.",
    "aggregate posterior": "All the test images' clouds added together: where the model actually puts "
    "codes. Where it is thin, the decoder was rarely asked and its pictures are guesses.",
    "VampPrior, mixture prior": "A prior made of several clouds instead of one round one, so it can "
    "follow the shape of the codes.",
    "β (beta), β-VAE": "How much the KL costs. β = 1 is the VAE; larger β packs codes tighter and "
    "blurs images; β → 0 is a plain autoencoder.",
    "autoencoder": "The same networks without sigma and without the KL term: codes may land anywhere, "
    "with holes between them, and there is no prior to sample from.",
    "principal components": "The directions along which the codes spread most. A map of a model with "
    "more than two dimensions shows the first two.",
    "unused (greyed) dimension": "A latent dimension whose KL is near 0: the encoder ignores it, so "
    "moving its slider barely changes the image.",
    "slerp (spherical path)": "An interpolation along an arc around the centre rather than a straight "
    "line, keeping the distance from the centre that typical prior samples have.",
    "latent traversal": "One dimension moved from low to high with the others kept: what that "
    "dimension alone changes.",
    "MIG (mutual information gap)": "For data with known factors (shape, size, position...): how much "
    "more the best dimension tells about each factor than the second best. 1: each factor in a "
    "dimension of its own.",
}
MORE = " (Glossary, top right: every term in plain words.)"


def explain(term: str) -> str:
    """A help icon's text for ``term`` (a key of TERMS): its plain words, and where the others are."""
    return TERMS[term] + MORE


def glossary_ui() -> None:
    """The Glossary button: every term in plain words, in a popover."""
    with st.popover("Glossary", icon=":material/menu_book:", help="Every term on the page, in plain words."):
        st.markdown("\n".join(f"- **{term}**: {words}" for term, words in TERMS.items()))
