"""Networks: the autoencoders (autoencoder), the VAE built on one (vae), InfoGAN's (gan) and
JULE's (jule); networks names every kind and saves and loads them as model files."""
