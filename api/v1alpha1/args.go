package v1alpha1

// Args is spec.args: a free-form JSON object whose nested maps and lists the API server
// keeps as they are (preserve unknown fields).
//
// +kubebuilder:object:generate=false
type Args map[string]any

// DeepCopy copies the whole tree. It is hand-written because controller-gen cannot copy
// `any`, and unlike runtime.DeepCopyJSON it accepts any Go value a caller put in (an int, a
// struct), sharing only what it cannot walk, so user data never makes it panic.
func (in Args) DeepCopy() Args {
	if in == nil {
		return nil
	}
	out, _ := deepCopyValue(map[string]any(in)).(map[string]any)
	return out
}

// DeepCopyInto copies the receiver into out.
func (in Args) DeepCopyInto(out *Args) {
	*out = in.DeepCopy()
}

func deepCopyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if v == nil {
			return v
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = deepCopyValue(e)
		}
		return out
	case []any:
		if v == nil {
			return v
		}
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopyValue(e)
		}
		return out
	default:
		return v
	}
}
