/**
 * Preprocessing transforms as pure geometry. A {@link org.fixres4j.transform.SampleTransform} turns an image size
 * (and a seeded generator, for random ones) into a {@link org.fixres4j.transform.ResamplePlan}, the Java mirror of
 * the kernel's {@code fx_resample_plan}. The native kernel then executes the plan: crop, Pillow-exact antialiased
 * resize, centre window with zero padding, flip, then normalise. The integer math of every transform is that of
 * torchvision 0.14, timm and the FixRes repository, checked against the golden cases in
 * {@code tests/data/preprocess/cases.json}.
 */
package org.fixres4j.transform;
