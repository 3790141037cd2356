/**
 * The FixRes protocol (Touvron et al. 2019, "Fixing the train-test resolution discrepancy"). So far:
 * {@link org.fixres4j.fixres.Recommend}, the paper's apparent-object-size model that recommends a test resolution
 * from the training resolution, the RandomResizedCrop scale range and the test crop ratio, with every term of the
 * derivation in a {@link org.fixres4j.fixres.Recommendation}.
 */
package org.fixres4j.fixres;
