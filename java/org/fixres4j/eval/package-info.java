/**
 * Evaluation metrics: top-k accuracy from logits, overall and per class ({@link org.fixres4j.eval.TopKAccuracy}),
 * ImageNet ReaL accuracy ({@link org.fixres4j.eval.RealAccuracy}), both built on one deterministic class ranking
 * ({@link org.fixres4j.eval.Ranking}: ties go to the lower class index, NaN ranks last) and on
 * {@link org.fixres4j.eval.LogitRows}, which copies a libtorch logits tensor into a float array. Metrics use ranks
 * only: no softmax, no confidence.
 */
package org.fixres4j.eval;
