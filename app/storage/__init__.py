"""The model store on disk: manifests with sha256, npz / safetensors files, atomic staged bundles, checkpoints."""
