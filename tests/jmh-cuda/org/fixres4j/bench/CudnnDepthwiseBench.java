package org.fixres4j.bench;

import java.util.concurrent.TimeUnit;

import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdDataAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdFilterAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionFwdAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.cuda.cudnn.cudnnFilterStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.fixres4j.kernels.Backends;
import org.fixres4j.kernels.CudaDepthwise;
import org.fixres4j.kernels.CudaDepthwise.DType;
import org.fixres4j.kernels.CudaDepthwise.Shape;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH: FixRes4J's CUDA depthwise kernels ({@link CudaDepthwise}, through the JavaCPP binding) against cuDNN called
 * directly through the CUDA preset ({@code org.bytedeco.cuda.global.cudnn}): NHWC tensor and filter descriptors,
 * {@code cudnnSetConvolutionGroupCount(C)}, algorithms chosen with {@code cudnnFind*AlgorithmEx} in the setup (outside
 * the timed region), the workspace they ask for allocated there too. Three operations per side: forward (ours: the plain
 * convolution, no bias or activation, as cuDNN's), backward-data (input gradient) and backward-filter (weight
 * gradient; ours also writes the bias gradient, cuDNN's needs a separate call for it, not timed). Symmetric padding
 * k / 2 on both sides (cuDNN has no asymmetric padding). One operation = one call; each invocation enqueues
 * {@value #CALLS} calls on one non-blocking stream and waits for it.
 *
 * <p>Needs a CUDA device, the CUDA build of the kernels, and the host's CUDA 13 runtime and cuDNN 9 (the preset's
 * JNI libraries link them): {@code mvn -Pjmh,jmh-cuda,gpu -DskipTests verify -Djmh.args="CudnnDepthwiseBench"}.
 * Elsewhere the setup fails with the reason (no device, no CUDA build, no cuDNN) and JMH reports it as the
 * benchmark's failure: nothing is timed. Compiled in CI against the CUDA preset's classes jar only (profile
 * {@code jmh-cuda}).
 */
@SuppressWarnings("deprecation") // cuDNN 9 marks its legacy convolution API deprecated: it is the baseline wanted
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CudnnDepthwiseBench {
    static final int CALLS = 10;

    /** EfficientNet-B0 depthwise layers at batch 64: "c h k stride". */
    @Param({"32 112 3 1", "96 112 3 2", "144 56 5 2", "480 14 3 1", "1152 7 5 1"})
    public String layer;

    @Param({"BFLOAT16", "FLOAT32"})
    public String dtype;

    @Param({"64"})
    public int batch;

    private DType dt;
    private Shape shape;
    private CUstream_st stream;
    private cudnnContext handle;
    private cudnnTensorStruct xDesc;
    private cudnnTensorStruct yDesc;
    private cudnnFilterStruct wDesc;
    private cudnnConvolutionStruct convDesc;
    private Pointer x;
    private Pointer w;
    private Pointer y;
    private Pointer dx;
    private Pointer dw;
    private Pointer db;
    private Pointer ours;
    private long oursBytes;
    private Pointer cudnnWs;
    private long cudnnWsBytes;
    private int fwdAlgo;
    private int bwdDataAlgo;
    private int bwdFilterAlgo;
    private final FloatPointer one = new FloatPointer(1f);
    private final FloatPointer zero = new FloatPointer(0f);

    /** Why this machine cannot run the benchmark, or null when it can. */
    static String unavailable() {
        Backends.Backend b = Backends.cudaKernels();
        if (!b.available()) {
            return "FixRes4J's CUDA kernels: " + b.detail();
        }
        try {
            Loader.load(cudnn.class);
            long v = cudnn.cudnnGetVersion();
            if (v < 90000) {
                return "cuDNN " + v + " found, cuDNN 9 needed";
            }
        } catch (Throwable t) {
            return "cuDNN 9 through org.bytedeco.cuda (the preset's JNI libraries and the host's libcudnn.so.9, "
                    + "libcudart.so.13): " + t;
        }
        return null;
    }

    private static void cu(int e, String what) {
        if (e != 0) {
            throw new IllegalStateException(what + ": CUDA error " + e + " " + cudart.cudaGetErrorString(e).getString());
        }
    }

    private static void dnn(int e, String what) {
        if (e != cudnn.CUDNN_STATUS_SUCCESS) {
            throw new IllegalStateException(what + ": cuDNN error " + e + " " + cudnn.cudnnGetErrorString(e).getString());
        }
    }

    private static Pointer malloc(long bytes) {
        Pointer p = new Pointer();
        cu(cudart.cudaMalloc(p, Math.max(bytes, 256)), "cudaMalloc");
        cu(cudart.cudaMemset(p, 0, Math.max(bytes, 256)), "cudaMemset");
        return p;
    }

    @Setup(Level.Trial)
    public void setup() {
        String why = unavailable();
        if (why != null) {
            throw new IllegalStateException("CudnnDepthwiseBench skipped: " + why);
        }
        String[] f = layer.trim().split("\\s+");
        int c = Integer.parseInt(f[0]);
        int hw = Integer.parseInt(f[1]);
        int k = Integer.parseInt(f[2]);
        int stride = Integer.parseInt(f[3]);
        int pad = k / 2;
        dt = DType.valueOf(dtype);
        shape = Shape.of(batch, c, hw, hw, k, stride, pad, pad, pad, pad, true);
        int cdt = dt == DType.FLOAT32 ? cudnn.CUDNN_DATA_FLOAT
                : dt == DType.FLOAT16 ? cudnn.CUDNN_DATA_HALF : cudnn.CUDNN_DATA_BFLOAT16;
        stream = new CUstream_st();
        cu(cudart.cudaStreamCreateWithFlags(stream, cudart.cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
        handle = new cudnnContext();
        dnn(cudnn.cudnnCreate(handle), "cudnnCreate");
        dnn(cudnn.cudnnSetStream(handle, stream), "cudnnSetStream");
        xDesc = new cudnnTensorStruct();
        yDesc = new cudnnTensorStruct();
        wDesc = new cudnnFilterStruct();
        convDesc = new cudnnConvolutionStruct();
        dnn(cudnn.cudnnCreateTensorDescriptor(xDesc), "cudnnCreateTensorDescriptor");
        dnn(cudnn.cudnnCreateTensorDescriptor(yDesc), "cudnnCreateTensorDescriptor");
        dnn(cudnn.cudnnCreateFilterDescriptor(wDesc), "cudnnCreateFilterDescriptor");
        dnn(cudnn.cudnnCreateConvolutionDescriptor(convDesc), "cudnnCreateConvolutionDescriptor");
        dnn(cudnn.cudnnSetTensor4dDescriptor(xDesc, cudnn.CUDNN_TENSOR_NHWC, cdt, batch, c, hw, hw), "x descriptor");
        dnn(cudnn.cudnnSetTensor4dDescriptor(yDesc, cudnn.CUDNN_TENSOR_NHWC, cdt, batch, c, shape.outH(),
                shape.outW()), "y descriptor");
        dnn(cudnn.cudnnSetFilter4dDescriptor(wDesc, cdt, cudnn.CUDNN_TENSOR_NHWC, c, 1, k, k), "w descriptor");
        dnn(cudnn.cudnnSetConvolution2dDescriptor(convDesc, pad, pad, stride, stride, 1, 1,
                cudnn.CUDNN_CROSS_CORRELATION, cudnn.CUDNN_DATA_FLOAT), "convolution descriptor");
        dnn(cudnn.cudnnSetConvolutionGroupCount(convDesc, c), "cudnnSetConvolutionGroupCount");
        dnn(cudnn.cudnnSetConvolutionMathType(convDesc, cudnn.CUDNN_TENSOR_OP_MATH), "math type");
        long e = dt.bytes;
        x = malloc(shape.inputElements() * e);
        dx = malloc(shape.inputElements() * e);
        y = malloc(shape.outputElements() * e);
        w = malloc(shape.weightElements() * e);
        dw = malloc(shape.weightElements() * e);
        db = malloc(c * e);
        oursBytes = CudaDepthwise.workspaceBytes(shape, dt);
        ours = malloc(oursBytes);
        // the algorithms, outside the timed region, with a generous search workspace
        long searchBytes = 256L << 20;
        Pointer search = malloc(searchBytes);
        int[] count = new int[1];
        cudnnConvolutionFwdAlgoPerf_t fp = new cudnnConvolutionFwdAlgoPerf_t(8);
        dnn(cudnn.cudnnFindConvolutionForwardAlgorithmEx(handle, xDesc, x, wDesc, w, convDesc, yDesc, y, 8, count, fp,
                search, searchBytes), "cudnnFindConvolutionForwardAlgorithmEx");
        fwdAlgo = fp.position(0).algo();
        long need = fp.memory();
        cudnnConvolutionBwdDataAlgoPerf_t dp = new cudnnConvolutionBwdDataAlgoPerf_t(8);
        dnn(cudnn.cudnnFindConvolutionBackwardDataAlgorithmEx(handle, wDesc, w, yDesc, y, convDesc, xDesc, dx, 8, count,
                dp, search, searchBytes), "cudnnFindConvolutionBackwardDataAlgorithmEx");
        bwdDataAlgo = dp.position(0).algo();
        need = Math.max(need, dp.memory());
        cudnnConvolutionBwdFilterAlgoPerf_t wp = new cudnnConvolutionBwdFilterAlgoPerf_t(8);
        dnn(cudnn.cudnnFindConvolutionBackwardFilterAlgorithmEx(handle, xDesc, x, yDesc, y, convDesc, wDesc, dw, 8,
                count, wp, search, searchBytes), "cudnnFindConvolutionBackwardFilterAlgorithmEx");
        bwdFilterAlgo = wp.position(0).algo();
        need = Math.max(need, wp.memory());
        cu(cudart.cudaFree(search), "cudaFree");
        cudnnWsBytes = need;
        cudnnWs = malloc(need);
        cu(cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize");
        System.out.printf("%n%s %s: cuDNN %d, algorithms fwd %d, bwd-data %d, bwd-filter %d, workspace %d bytes%n",
                shape, dt, cudnn.cudnnGetVersion(), fwdAlgo, bwdDataAlgo, bwdFilterAlgo, cudnnWsBytes);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (handle == null) {
            return;
        }
        cudart.cudaStreamSynchronize(stream);
        for (Pointer p : new Pointer[] {x, dx, y, w, dw, db, ours, cudnnWs}) {
            if (p != null) {
                cudart.cudaFree(p);
            }
        }
        cudnn.cudnnDestroyTensorDescriptor(xDesc);
        cudnn.cudnnDestroyTensorDescriptor(yDesc);
        cudnn.cudnnDestroyFilterDescriptor(wDesc);
        cudnn.cudnnDestroyConvolutionDescriptor(convDesc);
        cudnn.cudnnDestroy(handle);
        cudart.cudaStreamDestroy(stream);
        handle = null;
    }

    private void sync() {
        cu(cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    }

    @Benchmark
    @OperationsPerInvocation(CALLS)
    public void oursForward() {
        for (int i = 0; i < CALLS; i++) {
            CudaDepthwise.forward(0, shape, dt, x.address(), w.address(), 0, false, y.address(), 0, stream.address());
        }
        sync();
    }

    @Benchmark
    @OperationsPerInvocation(CALLS)
    public void cudnnForward() {
        for (int i = 0; i < CALLS; i++) {
            dnn(cudnn.cudnnConvolutionForward(handle, one, xDesc, x, wDesc, w, convDesc, fwdAlgo, cudnnWs, cudnnWsBytes,
                    zero, yDesc, y), "cudnnConvolutionForward");
        }
        sync();
    }

    @Benchmark
    @OperationsPerInvocation(CALLS)
    public void oursBackwardData() {
        for (int i = 0; i < CALLS; i++) {
            CudaDepthwise.backward(0, shape, dt, 0, w.address(), y.address(), dx.address(), 0, 0, 0, 0,
                    stream.address());
        }
        sync();
    }

    @Benchmark
    @OperationsPerInvocation(CALLS)
    public void cudnnBackwardData() {
        for (int i = 0; i < CALLS; i++) {
            dnn(cudnn.cudnnConvolutionBackwardData(handle, one, wDesc, w, yDesc, y, convDesc, bwdDataAlgo, cudnnWs,
                    cudnnWsBytes, zero, xDesc, dx), "cudnnConvolutionBackwardData");
        }
        sync();
    }

    @Benchmark
    @OperationsPerInvocation(CALLS)
    public void oursBackwardFilter() {
        for (int i = 0; i < CALLS; i++) {
            CudaDepthwise.backward(0, shape, dt, x.address(), 0, y.address(), 0, dw.address(), db.address(),
                    ours.address(), oursBytes, stream.address());
        }
        sync();
    }

    @Benchmark
    @OperationsPerInvocation(CALLS)
    public void cudnnBackwardFilter() {
        for (int i = 0; i < CALLS; i++) {
            dnn(cudnn.cudnnConvolutionBackwardFilter(handle, one, xDesc, x, yDesc, y, convDesc, bwdFilterAlgo,
                    cudnnWs, cudnnWsBytes, zero, wDesc, dw), "cudnnConvolutionBackwardFilter");
        }
        sync();
    }
}
