package org.fixres4j.preprocess;

import java.util.List;

import org.fixres4j.image.DecodedImage;
import org.fixres4j.transform.ResamplePlan;

/** The flat arrays one native batch call takes (see native/fixres4j_jni.h), checked against the output spec. */
final class NativeJobs {
    final int count;
    final long[] imageAddr;
    final long[] imageStride;
    final int[] imageInts;
    final int[] planInts;
    final double[] boxes;
    final long[] indices;
    final float[] mean;
    final float[] std;
    final int[] outInts;

    NativeJobs(List<Sample> samples, OutputSpec spec, long batch) {
        count = samples.size();
        imageAddr = new long[count];
        imageStride = new long[count];
        imageInts = new int[5 * count];
        planInts = new int[12 * count];
        boxes = new double[4 * count];
        indices = new long[count];
        for (int j = 0; j < count; j++) {
            Sample s = samples.get(j);
            DecodedImage im = s.image();
            ResamplePlan p = s.plan();
            if (p.outW() != spec.width() || p.outH() != spec.height()) {
                throw new IllegalArgumentException("sample " + j + " (" + im.name() + ") has output size "
                        + p.outW() + "x" + p.outH() + " but the batch is " + spec.width() + "x" + spec.height());
            }
            if (s.index() >= batch) {
                throw new IllegalArgumentException("sample " + j + " (" + im.name() + ") has batch index "
                        + s.index() + " but the batch holds " + batch);
            }
            p.validateFor(im.width(), im.height());
            imageAddr[j] = im.address();
            imageStride[j] = im.rowStride();
            imageInts[5 * j] = im.width();
            imageInts[5 * j + 1] = im.height();
            imageInts[5 * j + 2] = im.channels();
            imageInts[5 * j + 3] = im.order().code;
            int[] q = {p.roiX(), p.roiY(), p.roiW(), p.roiH(), p.resizeW(), p.resizeH(), p.cropX(), p.cropY(),
                p.outW(), p.outH(), p.interpolation().code(), p.flipX() ? 1 : 0};
            System.arraycopy(q, 0, planInts, 12 * j, 12);
            boxes[4 * j] = p.boxX0();
            boxes[4 * j + 1] = p.boxY0();
            boxes[4 * j + 2] = p.boxX1();
            boxes[4 * j + 3] = p.boxY1();
            indices[j] = s.index();
        }
        mean = spec.normalization().mean();
        std = spec.normalization().std();
        outInts = spec.nativeInts();
    }
}
