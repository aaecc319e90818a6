package steps

import (
	"fmt"
	"reflect"
	"strings"
)

// exprValue turns a value an expression returned into plain JSON data (maps, slices,
// scalars), naming struct fields by their expr tag (then json tag, then Go name), so that a
// step or sequence view reads the same in the payload as in the expression.
func exprValue(v any) any {
	if v == nil {
		return nil
	}
	return exprReflect(reflect.ValueOf(v))
}

func exprReflect(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Invalid:
		return nil
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return exprReflect(v.Elem())
	case reflect.Struct:
		return exprStruct(v)
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		out := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			out[fmt.Sprint(it.Key().Interface())] = exprReflect(it.Value())
		}
		return out
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return v.Interface() // bytes: JSON writes them as base64
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = exprReflect(v.Index(i))
		}
		return out
	default:
		return v.Interface()
	}
}

func exprStruct(v reflect.Value) any {
	t := v.Type()
	if t.NumField() == 0 {
		return v.Interface()
	}
	out := make(map[string]any, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		out[exprFieldName(f)] = exprReflect(v.Field(i))
	}
	return out
}

func exprFieldName(f reflect.StructField) string {
	for _, tag := range []string{"expr", "json"} {
		if name, _, _ := strings.Cut(f.Tag.Get(tag), ","); name != "" && name != "-" {
			return name
		}
	}
	return f.Name
}
