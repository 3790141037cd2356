/**
 * Datasets and the batch loader. A {@link org.fixres4j.data.Dataset} is an indexed list of
 * {@link org.fixres4j.data.Sample}s (a file or in-memory pixels, plus a label); readers build them from ImageNet-style
 * class folders and ImageNet-V2 ({@link org.fixres4j.data.ImageFolder}), a {@code path,label} CSV
 * ({@link org.fixres4j.data.CsvImageList}) and Fashion-MNIST IDX files ({@link org.fixres4j.data.FashionMnist});
 * {@link org.fixres4j.data.RealLabels} attaches the ImageNet ReaL labels and {@link org.fixres4j.data.Subsets}
 * makes deterministic {@code --limit} subsets. {@link org.fixres4j.data.BatchLoader} decodes and preprocesses on
 * worker threads into pooled libtorch tensors, in a deterministic order with seeded augmentation
 * ({@link org.fixres4j.data.Seeds}).
 */
package org.fixres4j.data;
