/** Shared machinery of the training and spectrum checks: data, initialisation, training, dense spectra. */
package io.hvp4j.verification.experiments;
