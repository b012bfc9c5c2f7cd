"""Networks: autoencoders (and later VAE, GAN pieces). Models save as plain dicts (see io)."""
