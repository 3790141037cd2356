package org.fixres4j.model;

import org.bytedeco.pytorch.Tensor;

/**
 * What {@link EfficientNet#features} returns for one batch.
 *
 * @param map the pre-pool feature map {@code [N, F, h, w]}: the output of conv_head + bn2 + SiLU (timm's
 *            {@code forward_features}); channels-last when the model runs channels-last
 * @param pooled the globally average-pooled features {@code [N, F]} (timm's {@code forward_head(pre_logits=True)})
 * @param logits the classifier outputs {@code [N, num_classes]}, or null when the model has no classifier
 */
public record Features(Tensor map, Tensor pooled, Tensor logits) {}
