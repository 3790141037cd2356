package org.fixres4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.fixres4j.preprocess.CudaPreprocessor;
import org.junit.jupiter.api.Test;

/** The library loads and reports its backends on any machine; without a GPU the CUDA path says why, as exceptions. */
class BackendsTest {
    @Test
    void reportsEveryBackendWithAReason() {
        List<Backends.Backend> report = Backends.report(false);
        assertEquals("cpu-kernels", report.get(0).name());
        assertTrue(report.get(0).available(), report.get(0).detail());
        Backends.Backend cuda = report.get(1);
        assertEquals("cuda-kernels", cuda.name());
        assertFalse(cuda.detail().isBlank(), "the CUDA line says why or how many devices");
        assertTrue(Kernels.buildInfo().contains("ABI " + Kernels.ABI_VERSION), Kernels.buildInfo());
    }

    @Test
    void noDriverIsSaidSoRatherThanAsAnInsufficientDriverVersion() {
        String native35 = "no usable CUDA device: CUDA driver version is insufficient for CUDA runtime version "
                + "(cudaErrorInsufficientDriver, error 35)";
        assertEquals("no NVIDIA driver (libcuda.so.1 not found)", Backends.cudaFailure(native35, false));
        assertEquals(native35, Backends.cudaFailure(native35, true), "with a driver, an old one is the reason");
        assertEquals("no CUDA device", Backends.cudaFailure(null, false));
        String other = "no usable CUDA device: the driver reports none";
        assertEquals(other, Backends.cudaFailure(other, false));
    }

    @Test
    void cudaWithoutADeviceIsAnException() {
        if (Backends.cudaDeviceCount() > 0) {
            try (CudaPreprocessor p = new CudaPreprocessor(0)) {
                assertEquals(0, p.device());
            }
            return;
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new CudaPreprocessor(0));
        assertFalse(e.getMessage().isBlank());
        assertThrows(IllegalArgumentException.class, () -> new CudaPreprocessor(-1));
    }

    @Test
    void isaCanBeForcedAndRestored() {
        Kernels.setCpuIsa(Kernels.Isa.SCALAR);
        assertEquals(Kernels.Isa.SCALAR, Kernels.cpuIsa());
        Kernels.resetCpuIsa();
        assertEquals(Kernels.bestCpuIsa(), Kernels.cpuIsa());
        for (Kernels.Isa isa : Kernels.Isa.values()) {
            if (Kernels.cpuSupports(isa)) {
                Kernels.setCpuIsa(isa);
                assertEquals(isa, Kernels.cpuIsa());
            } else {
                assertThrows(UnsupportedBackendException.class, () -> Kernels.setCpuIsa(isa));
            }
        }
        Kernels.resetCpuIsa();
    }

    @Test
    void environmentOverrideIsReported() {
        String override = Kernels.cpuIsaOverride();
        if (System.getenv("FIXRES4J_CPU_ISA") == null) {
            assertEquals("", override);
            assertFalse(Backends.cpuKernels().detail().contains("FIXRES4J_CPU_ISA"));
        } else {
            assertTrue(override.startsWith("FIXRES4J_CPU_ISA="), override);
            assertTrue(Backends.cpuKernels().detail().contains(override), Backends.cpuKernels().detail());
        }
    }
}
