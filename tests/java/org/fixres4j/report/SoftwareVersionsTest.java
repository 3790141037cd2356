package org.fixres4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.Loader;
import org.fixres4j.torch.Torch;
import org.junit.jupiter.api.Test;

/** The versions in the provenance come from the libraries, not from the manifest of the jar they were shaded into. */
class SoftwareVersionsTest {
    @Test
    void presetAndJavacppVersionsComeFromTheirPomProperties() throws Exception {
        assertEquals(Loader.getVersion(), SoftwareVersions.javacpp());
        String preset = SoftwareVersions.pytorchPreset();
        assertTrue(preset.matches("\\d+\\.\\d+\\.\\d+-\\d+\\.\\d+\\.\\d+"), preset);
        assertTrue(preset.endsWith("-" + SoftwareVersions.javacpp()), preset);
        assertEquals("unknown", SoftwareVersions.preset("no-such-artifact", "org.bytedeco.javacpp.Loader"));
        assertEquals("unknown", SoftwareVersions.preset("pytorch", "no.such.Class"));
    }

    @Test
    void libtorchIsTheLoadedLibrarysOwnVersion() {
        Torch.ensureLoaded();
        String loaded = SoftwareVersions.loadedLibtorch();
        assertTrue(loaded != null && loaded.matches("\\d+\\.\\d+\\.\\d+.*"), String.valueOf(loaded));
        assertEquals(loaded, SoftwareVersions.libtorch());
        // the preset 2.10.0-1.5.13 is built for libtorch 2.10.0
        assertTrue(SoftwareVersions.pytorchPreset().startsWith(loaded), loaded);
    }

    @Test
    void parsing() {
        assertEquals("2.10.0", SoftwareVersions.parseTorchVersion("PyTorch built with:\n  - Build settings: "
                + "BLAS_INFO=open, TORCH_VERSION=2.10.0, USE_CUDA=OFF"));
        assertNull(SoftwareVersions.parseTorchVersion("no version here"));
        assertNull(SoftwareVersions.parseTorchVersion(null));
        assertEquals("2.10.0", SoftwareVersions.libtorchOfPreset("2.10.0-1.5.13"));
        assertEquals("unknown", SoftwareVersions.libtorchOfPreset("unknown"));
    }
}
