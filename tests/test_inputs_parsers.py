"""The live inputs' parsers and compositors (display/inputs/): datagrams built here from each protocol's
documentation (hzeller/flaschen-taschen doc/protocols.md; 3waylabs.com/ddp) and by testsupport's senders, which
follow the same documents; then fuzzed: only Malformed ever leaves parse(), and the compositors always give
whole frames."""

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from pixie.display.inputs import ddp, flaschen
from testsupport.udp_senders import ddp_datagram, ddp_datagrams, flaschen_taschen_datagram

RED, GREEN, BLUE, BLACK, WHITE = b"\xff\x00\x00", b"\x00\xff\x00", b"\x00\x00\xff", b"\x00\x00\x00", b"\xff\xff\xff"
TEN_BY_TEN = bytes(range(256)) + bytes(range(44))  # the doc's example: 10 * 10 * 3 = 300 bytes of RGB


def pixels(frame: bytes, width: int) -> list[list[bytes]]:
    return [[frame[i : i + 3] for i in range(row, row + width * 3, 3)] for row in range(0, len(frame), width * 3)]


# FlaschenTaschen: the datagram


def test_the_docs_header_comment_places_a_tile_at_its_offset_and_layer():
    datagram = b"P6\n10 10\n#FT: 5 8 13\n255\n" + TEN_BY_TEN
    assert flaschen.parse(datagram) == flaschen.Tile(5, 8, 13, 10, 10, TEN_BY_TEN)


def test_the_docs_footer_after_the_pixel_data_places_a_tile_with_its_comments():
    footer = b"5      # optional x offset\n8      # optional y offset\n13     # optional z offset.\n"
    assert flaschen.parse(b"P6\n10 10\n255\n" + TEN_BY_TEN + footer) == flaschen.Tile(5, 8, 13, 10, 10, TEN_BY_TEN)


def test_a_plain_ppm_lands_at_the_top_left_of_layer_0():
    assert flaschen.parse(b"P6 2 1 255\n" + RED + GREEN) == flaschen.Tile(0, 0, 0, 2, 1, RED + GREEN)


def test_comments_sit_wherever_the_header_allows_whitespace_and_the_footer_wins_over_the_comment():
    datagram = b"P6#made by hand\n2 # width\n#FT: 1 2 3\n1\n255\n" + RED + GREEN + b"-4 7"
    assert flaschen.parse(datagram) == flaschen.Tile(-4, 7, 3, 2, 1, RED + GREEN)


def test_layers_beyond_0_to_15_are_clamped_as_the_server_does():
    assert flaschen.parse(flaschen_taschen_datagram([[RED]], z=20)).z == 15
    assert flaschen.parse(flaschen_taschen_datagram([[RED]], z=-3, comment=True)).z == 0


def test_the_sender_builds_what_the_parser_reads_from_an_image_in_either_form():
    image = Image.new("RGB", (3, 2), (1, 2, 3))
    for comment in (False, True):
        tile = flaschen.parse(flaschen_taschen_datagram(image, x=-2, y=9, z=4, comment=comment))
        assert tile == flaschen.Tile(-2, 9, 4, 3, 2, bytes([1, 2, 3]) * 6)


def test_trailing_bytes_that_are_no_numbers_are_ignored():
    assert flaschen.parse(b"P6\n1 1\n255\n" + RED + b"\x00\xffjunk").x == 0


def test_what_is_not_a_frame_is_malformed_with_its_reason():
    reasons = {
        b"": "not a P6 PPM",
        b"P3\n1 1\n255\n1 2 3": "not a P6 PPM",
        b"P61 1 255\n": "not a P6 PPM",
        b"P6\n1 1\n": "truncated header",
        b"P6\n1 1\n255": "truncated header",
        b"P6\n1 1\n255\n\x01\x02": "truncated",
        b"P6\n1 1\n15\n\x01\x02\x03": "maxval not 255",
        b"P6\n0 1\n255\n": "empty image",
        b"P6\n257 256\n255\n": "too large",
        b"P6\n99999999999999999999 1\n255\n": "number too long",
        b"P6\nten 1\n255\n": "truncated header",
    }
    for datagram, reason in reasons.items():
        try:
            flaschen.parse(datagram)
        except flaschen.Malformed as error:
            assert str(error) == reason, datagram
        else:
            raise AssertionError(f"{datagram!r} parsed")


# FlaschenTaschen: the layers


def tile(rgb_rows: list[list[bytes]], x=0, y=0, z=0) -> flaschen.Tile:
    return flaschen.Tile(x, y, z, len(rgb_rows[0]), len(rgb_rows), b"".join(b"".join(row) for row in rgb_rows))


def test_black_is_transparent_above_layer_0_and_the_highest_colour_wins():
    layers = flaschen.Layers(3, 1, layer_timeout_s=15)
    layers.put(tile([[RED, RED, RED]]), now=0)
    layers.put(tile([[BLACK, GREEN, GREEN]], z=1), now=0)
    layers.put(tile([[BLACK, BLACK, BLUE]], z=7), now=0)
    assert pixels(layers.frame(now=0), 3) == [[RED, GREEN, BLUE]]


def test_black_on_layer_0_is_black_and_a_tile_paints_its_black_into_its_layer():
    layers = flaschen.Layers(2, 1, layer_timeout_s=15)
    layers.put(tile([[RED, RED]]), now=0)
    layers.put(tile([[BLACK]], x=1), now=0)
    layers.put(tile([[GREEN, GREEN]], z=2), now=0)
    layers.put(tile([[BLACK]], z=2), now=1)
    assert pixels(layers.frame(now=1), 2) == [[RED, GREEN]]
    layers.put(tile([[BLACK]], x=1, z=2), now=2)
    assert pixels(layers.frame(now=2), 2) == [[RED, BLACK]]


def test_a_layer_above_0_not_sent_for_the_timeout_is_cleared_and_layer_0_stays():
    layers = flaschen.Layers(2, 1, layer_timeout_s=15)
    layers.put(tile([[RED, RED]]), now=0)
    layers.put(tile([[GREEN, BLACK]], z=1), now=0)
    layers.put(tile([[BLACK, BLUE]], z=2), now=10)
    assert pixels(layers.frame(now=15), 2) == [[GREEN, BLUE]]
    assert pixels(layers.frame(now=15.5), 2) == [[RED, BLUE]]
    assert pixels(layers.frame(now=1000), 2) == [[RED, RED]]
    layers.put(tile([[BLACK, WHITE]], z=1), now=1000)  # a cleared layer starts black, not with its old pixels
    assert pixels(layers.frame(now=1000), 2) == [[RED, WHITE]]


def test_tiles_off_the_panel_are_clipped_at_its_edges():
    layers = flaschen.Layers(3, 3, layer_timeout_s=15)
    square = [[WHITE, RED], [GREEN, BLUE]]
    layers.put(tile(square, x=-1, y=-1), now=0)
    layers.put(tile(square, x=2, y=2), now=0)
    layers.put(tile(square, x=3, y=0), now=0)
    layers.put(tile(square, x=-999_999_999, y=999_999_999), now=0)
    assert pixels(layers.frame(now=0), 3) == [[BLUE, BLACK, BLACK], [BLACK, BLACK, BLACK], [BLACK, BLACK, WHITE]]


def test_no_tile_yet_is_a_black_frame():
    assert flaschen.Layers(4, 2, layer_timeout_s=1).frame(now=0) == bytes(4 * 2 * 3)


# DDP: the datagram


def test_a_ddp_header_without_timecode_gives_offset_data_and_push():
    datagram = bytes([0x41, 0x03, 0x0B, 0x01, 0, 0, 0x01, 0x02, 0, 6]) + RED + GREEN
    assert ddp.parse(datagram) == ddp.Packet(offset=0x0102, data=RED + GREEN, push=True)


def test_a_ddp_header_with_timecode_has_its_data_four_bytes_later():
    datagram = bytes([0x50, 0x00, 0x0B, 0x01, 0, 0, 0, 9, 0, 3]) + b"\x12\x34\x56\x78" + BLUE
    assert ddp.parse(datagram) == ddp.Packet(offset=9, data=BLUE, push=False)
    assert ddp.parse(ddp_datagram(RED, offset=3, push=True, timecode=7)) == ddp.Packet(3, RED, True)


def test_data_types_that_say_rgb_or_leave_it_undefined_and_all_devices_are_accepted():
    for kind in (0x00, 0x01, 0x0B, 0x0D):
        for destination in (1, 255):
            datagram = bytes([0x41, 1, kind, destination, 0, 0, 0, 0, 0, 3]) + RED + b"padding"
            assert ddp.parse(datagram) == ddp.Packet(0, RED, True)


def test_a_push_with_no_data_is_a_packet():
    assert ddp.parse(bytes([0x41, 1, 0x0B, 1, 0, 0, 0, 0, 0, 0])) == ddp.Packet(0, b"", True)


def test_what_ddp_does_not_show_is_malformed_with_its_reason():
    def header(flags=0x41, kind=0x0B, destination=1, length=3):
        return bytes([flags, 1, kind, destination, 0, 0, 0, 0]) + length.to_bytes(2, "big")

    reasons = {
        b"": "truncated header",
        header()[:9]: "truncated header",
        header(flags=0x81) + RED: "not DDP version 1",
        header(flags=0x01) + RED: "not DDP version 1",
        header(flags=0x43) + RED: "query or reply",
        header(flags=0x44) + RED: "query or reply",
        header(flags=0x48) + RED: "storage",
        header(kind=0x1B) + RED: "not RGB 8-bit",  # RGBW
        header(kind=0x13) + RED: "not RGB 8-bit",  # HSL
        header(kind=0x8B) + RED: "not RGB 8-bit",  # custom
        header(kind=0x0C) + RED: "not RGB 8-bit",  # 16 bits
        header(destination=250) + RED: "not the display",  # JSON config
        header(destination=0) + RED: "not the display",  # reserved
        header(length=4) + RED: "truncated",
        header(flags=0x51) + RED: "truncated",  # timecode flag, no timecode
    }
    for datagram, reason in reasons.items():
        try:
            ddp.parse(datagram)
        except ddp.Malformed as error:
            assert str(error) == reason, datagram
        else:
            raise AssertionError(f"{datagram!r} parsed")


# DDP: the canvas


def test_a_frame_split_mid_pixel_across_datagrams_shows_on_the_push():
    canvas = ddp.Canvas(2, 2)
    frame = RED + GREEN + BLUE + WHITE
    first, second = ddp_datagrams(frame, chunk=4)[:1], ddp_datagrams(frame, chunk=4)[1:]
    assert len(second) == 2
    assert canvas.put(ddp.parse(ddp_datagram(b"", push=True))) == bytes(12)  # a push: now only pushes show
    assert [canvas.put(ddp.parse(d)) for d in first + second] == [None, None, frame]


def test_a_sender_that_never_pushes_shows_every_packet_until_its_first_push():
    canvas = ddp.Canvas(2, 1)
    assert canvas.put(ddp.Packet(0, RED, push=False)) == RED + BLACK
    assert canvas.put(ddp.Packet(3, GREEN, push=False)) == RED + GREEN
    assert canvas.put(ddp.Packet(0, BLUE, push=True)) == BLUE + GREEN
    assert canvas.put(ddp.Packet(3, WHITE, push=False)) is None
    assert canvas.put(ddp.Packet(0, b"", push=True)) == BLUE + WHITE


def test_serpentine_runs_every_other_row_right_to_left():
    strip = [bytes([p, p, 100 + p]) for p in range(9)]
    canvas = ddp.Canvas(3, 3, serpentine=True)
    frame = canvas.put(ddp.Packet(0, b"".join(strip), push=True))
    assert pixels(frame, 3) == [strip[0:3], strip[5:2:-1], strip[6:9]]


def test_start_shows_the_ddp_pixel_at_the_top_left_and_what_lies_outside_is_dropped():
    canvas = ddp.Canvas(2, 1, start=2)
    frame = canvas.put(ddp.Packet(0, RED + GREEN + BLUE + WHITE + RED, push=True))
    assert frame == BLUE + WHITE
    assert canvas.put(ddp.Packet(2**32 - 1, WHITE, push=True)) == BLUE + WHITE
    assert canvas.put(ddp.Packet(3, RED * 2 + GREEN, push=True)) == RED + GREEN  # begins off the panel
    assert canvas.put(ddp.Packet(6, BLACK + BLUE * 100, push=True)) == BLACK + BLUE


def test_a_whole_frame_from_the_sender_arrives_in_any_chunking():
    frame = bytes(range(256)) * 3
    for chunk in (1, 2, 3, 100, 1440):
        canvas = ddp.Canvas(16, 16)
        shown = [canvas.put(ddp.parse(d)) for d in ddp_datagrams(frame, chunk=chunk)]
        assert shown[-1] == frame


# Fuzz: only Malformed leaves parse(); the compositors always give whole frames.

FUZZ = settings(max_examples=300, deadline=None)


def parses_or_is_malformed(module, datagram: bytes):
    try:
        return module.parse(datagram)
    except module.Malformed:
        return None


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_parse_or_are_malformed(datagram):
    for module in (flaschen, ddp):
        parsed = parses_or_is_malformed(module, datagram)
        assert parsed is None or isinstance(parsed, (flaschen.Tile, ddp.Packet))


header_number = st.one_of(
    st.integers(-10, 300), st.integers(-(10**30), 10**30), st.sampled_from([0, 255, 256, 65536, 10**9])
)
spacing = st.sampled_from([b" ", b"\n", b"\t", b"#c\n", b"#FT: 1 2 3\n", b"#FT:", b"", b"\r\n"])


@FUZZ
@given(st.lists(st.tuples(spacing, header_number), min_size=0, max_size=4), st.binary(max_size=600), st.data())
def test_ppm_headers_with_any_numbers_truncated_anywhere_parse_or_are_malformed(fields, tail, data):
    datagram = b"P6" + b"".join(space + str(number).encode() for space, number in fields) + b"\n" + tail
    datagram = datagram[: data.draw(st.integers(0, len(datagram)))]
    tile = parses_or_is_malformed(flaschen, datagram)
    if tile is not None:
        assert 0 <= tile.z <= 15 and len(tile.rgb) == tile.width * tile.height * 3 <= flaschen.MAX_PIXELS * 3


@FUZZ
@given(
    st.integers(1, 8),
    st.integers(1, 8),
    st.integers(-500, 500),
    st.integers(-500, 500),
    st.integers(0, 15),
    st.booleans(),
    st.data(),
)
def test_a_sent_tile_cut_anywhere_is_malformed_until_its_pixels_are_all_there(width, height, x, y, z, comment, data):
    size = width * height * 3
    image = Image.frombytes("RGB", (width, height), data.draw(st.binary(min_size=size, max_size=size)))
    datagram = flaschen_taschen_datagram(image, x=x, y=y, z=z, comment=comment)
    assert flaschen.parse(datagram) == flaschen.Tile(x, y, z, width, height, image.tobytes())
    cut = data.draw(st.integers(0, len(datagram)))
    tile = parses_or_is_malformed(flaschen, datagram[:cut])
    pixels_end = datagram.index(b"\n255\n") + 5 + size
    assert (tile is not None) == (cut >= pixels_end)
    assert tile is None or tile.rgb == image.tobytes()


ft_tiles = st.builds(
    lambda w, h, x, y, z, colour: flaschen.Tile(x, y, z, w, h, bytes(colour) * (w * h)),
    st.integers(1, 12),
    st.integers(1, 12),
    st.integers(-(10**9), 10**9) | st.integers(-15, 15),
    st.integers(-(10**9), 10**9) | st.integers(-15, 15),
    st.integers(0, 15),
    st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)),
)


@FUZZ
@given(st.integers(1, 9), st.integers(1, 9), st.lists(st.tuples(ft_tiles, st.floats(0, 100)), max_size=12))
def test_layers_give_whole_frames_for_any_tiles_anywhere_at_any_time(width, height, puts):
    layers = flaschen.Layers(width, height, layer_timeout_s=5)
    for tile_, now in puts:
        layers.put(tile_, now)
        assert len(layers.frame(now)) == width * height * 3


@FUZZ
@given(
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 2**32 - 1) | st.integers(0, 64),
    st.integers(0, 2**16 - 1) | st.integers(0, 64),
    st.binary(max_size=300),
    st.data(),
)
def test_ddp_headers_with_any_fields_truncated_anywhere_parse_or_are_malformed(
    flags, sequence, kind, destination, offset, length, body, data
):
    datagram = bytes([flags, sequence, kind, destination]) + offset.to_bytes(4, "big") + length.to_bytes(2, "big")
    datagram = (datagram + body)[: data.draw(st.integers(0, len(datagram) + len(body)))]
    packet = parses_or_is_malformed(ddp, datagram)
    if packet is not None:
        assert packet.offset == offset and len(packet.data) == length


ddp_packets = st.builds(
    ddp.Packet,
    st.integers(0, 2**32 - 1) | st.integers(0, 400),
    st.binary(max_size=400),
    st.booleans(),
)


@FUZZ
@given(st.integers(1, 9), st.integers(1, 9), st.booleans(), st.integers(0, 100), st.lists(ddp_packets, max_size=12))
def test_a_canvas_gives_whole_frames_for_any_packets_anywhere(width, height, serpentine, start, packets):
    canvas = ddp.Canvas(width, height, serpentine=serpentine, start=start)
    for packet in packets:
        frame = canvas.put(packet)
        assert frame is None or len(frame) == width * height * 3
    assert len(canvas.frame()) == width * height * 3
