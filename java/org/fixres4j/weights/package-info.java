/**
 * Weight files that timm users have, read into a neutral in-memory model without libtorch: {@link
 * org.fixres4j.weights.StateDict} of {@link org.fixres4j.weights.TensorData}; {@link org.fixres4j.weights.SafeTensors}
 * (read and write) and {@link org.fixres4j.weights.PthReader} ({@code torch.save} files, zip and legacy, through the
 * restricted unpickler {@link org.fixres4j.weights.TorchPickle}, which never executes code). {@link
 * org.fixres4j.weights.TorchTensors} is the one bridge to libtorch tensors.
 */
package org.fixres4j.weights;
