"""The IdP's pages, one module per part of the journey."""
