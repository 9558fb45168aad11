"""Test and demo machinery: a throwaway Synapse, real encrypting people, the scripted demo.

The running bot never imports this package; the container ships without it unless it is
built for the demo (`docker build --build-arg DEMO=yes`).
"""
