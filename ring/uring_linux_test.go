package ring

import (
	"testing"
	"unsafe"
)

// The structs shared with the kernel must have the kernel's sizes exactly.
func TestABISizes(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"io_uring_sqe", unsafe.Sizeof(sqe{}), 64},
		{"io_uring_cqe", unsafe.Sizeof(cqe{}), 16},
		{"io_uring_params", unsafe.Sizeof(uringParams{}), 120},
		{"io_uring_buf", unsafe.Sizeof(bufRingEntry{}), 16},
		{"io_uring_buf_reg", unsafe.Sizeof(bufReg{}), 40},
		{"io_uring_getevents_arg", unsafe.Sizeof(getEventsArg{}), 24},
		{"io_uring_probe", unsafe.Sizeof(probe{}), 16 + probeOpsMax*8},
	} {
		if c.got != c.want {
			t.Errorf("sizeof(%s) = %d, want %d", c.name, c.got, c.want)
		}
	}
	if off := unsafe.Offsetof(sqe{}.userData); off != 32 {
		t.Errorf("offsetof(sqe.user_data) = %d, want 32", off)
	}
	if off := unsafe.Offsetof(sqe{}.bufGroup); off != 40 {
		t.Errorf("offsetof(sqe.buf_group) = %d, want 40", off)
	}
}

func TestUserDataRoundTrip(t *testing.T) {
	for _, c := range []struct {
		kind uint8
		gen  uint32
		fd   int
	}{
		{udRecv, 0, 0}, {udSend, udGenMask, 1<<31 - 1}, {udAccept, udGenMask + 5, 7}, {udWake, 3, -1},
	} {
		kind, gen, fd := unpackUD(packUD(c.kind, c.gen, c.fd))
		if kind != c.kind || gen != c.gen&udGenMask || fd != c.fd {
			t.Errorf("unpack(pack(%d, %d, %d)) = %d, %d, %d", c.kind, c.gen, c.fd, kind, gen, fd)
		}
	}
}

// Relations between limits.
func TestLimits(t *testing.T) {
	if EntriesMax*cqPerSQ > 65536 {
		t.Errorf("EntriesMax*cqPerSQ = %d exceeds the kernel's CQ limit 65536", EntriesMax*cqPerSQ)
	}
	if BufCountMax > 1<<16 {
		t.Errorf("BufCountMax %d does not fit a 16-bit buffer id", BufCountMax)
	}
	if udGenBits+8 > 32 {
		t.Errorf("kind and generation do not fit the upper half of user_data")
	}
}
