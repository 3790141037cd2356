package org.fixres4j.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.MemoryFormat;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The device-agnostic moves of the training loops on the CPU: every move to the CPU is the tensor itself (no copy, no
 * layout change, so CPU runs stay bit-identical), a module's device is its parameters', and a checkpoint's host tensor
 * goes where its parameter lives. libtorch's {@code meta} device (tensors without storage, in the CPU build too)
 * stands for "not the host": the calls that must refuse or move such tensors are checked with it.
 */
class DeviceTensorsTest {
    @BeforeAll
    static void load() {
        Torch.ensureLoaded();
    }

    @Test
    void onTheCpuEveryMoveIsTheTensorItself() {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = torch.randn(2, 3, 4, 4);
            assertSame(x, DeviceTensors.toDevice(x, DeviceSpec.CPU, false));
            Tensor same = DeviceTensors.toDevice(x, DeviceSpec.CPU, true);
            assertSame(x, same, "no channels-last conversion on the host: CPU inputs stay as the loader made them");
            assertTrue(same.is_contiguous());
            assertFalse(same.is_contiguous(MemoryFormat.ChannelsLast));
            assertSame(x, DeviceTensors.toHost(x));
            Tensor p = torch.zeros(3);
            Tensor state = torch.ones(3);
            assertSame(state, DeviceTensors.like(state, p));
            assertEquals(DeviceSpec.CPU, DeviceTensors.of(x));
            DeviceTensors.synchronize(DeviceSpec.CPU); // nothing to wait for
        }
    }

    @Test
    void aModuleIsWhereItsParametersAreAndMovingItToTheCpuChangesNothing() {
        try (PointerScope scope = new PointerScope()) {
            LinearImpl lin = new LinearImpl(3, 2);
            long before = lin.weight().data_ptr().address();
            assertEquals(DeviceSpec.CPU, DeviceTensors.of(lin));
            DeviceTensors.moveModule(lin, DeviceSpec.CPU);
            assertEquals(before, lin.weight().data_ptr().address(), "the CPU move kept the same storage");
        }
    }

    @Test
    void aCheckpointTensorGoesWhereItsParameterLives() {
        try (PointerScope scope = new PointerScope()) {
            Tensor host = torch.arange(new org.bytedeco.pytorch.Scalar(6)).to(ScalarType.Float).reshape(2, 3);
            Tensor param = torch.zeros(2, 3).to(new Device("meta"), ScalarType.Float);
            Tensor moved = DeviceTensors.like(host, param);
            assertEquals(torch.DeviceType.Meta.value, moved.device().type().value);
            assertArrayEquals(new long[] {2, 3}, moved.sizes().vec().get());
            assertEquals(ScalarType.Float.value, moved.scalar_type().value);
        }
    }

    @Test
    void tensorsThatAreNeitherOnTheHostNorOnCudaAreRefusedByName() {
        try (PointerScope scope = new PointerScope()) {
            Tensor meta = torch.zeros(2, 3).to(new Device("meta"), ScalarType.Float);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeviceTensors.of(meta));
            assertTrue(e.getMessage().contains("neither the CPU nor CUDA"), e.getMessage());
            IllegalArgumentException h = assertThrows(IllegalArgumentException.class,
                    () -> DeviceTensors.toDevice(meta, DeviceSpec.CPU, false));
            assertTrue(h.getMessage().startsWith("toDevice takes a host (CPU) tensor"), h.getMessage());
        }
    }
}
