#!/usr/bin/env escript
jch(_Key, 1) -> 0;
jch(Key, N) when is_integer(Key) ->
    S = rand:seed_s(exs1024, {Key, Key, Key}),
    jv(-1, 0, N, S);
jch(Key, N) -> jch(erlang:phash2(Key), N).
jv(B, J, N, _) when J >= N -> B;
jv(_, J0, N, S0) -> B = J0, {R, S} = rand:uniform_s(S0), J = trunc((B + 1) / R), jv(B, J, N, S).
main(_) ->
    Keys = [<<>>, <<"a">>, <<"key-0">>, <<"abcdefghijkl">>, <<"abcdefghijklmnopqrstuvwxyz0123456789">>, <<255,0,128>>],
    [io:format("bin ~w ~w ~w ~w~n", [binary_to_list(K), erlang:phash2(K), jch(K, 8), jch(K, 30000)]) || K <- Keys],
    io:format("atom undefined ~w ~w~n", [erlang:phash2(undefined), jch(undefined, 8)]),
    io:format("tag longstr v ~w~n", [erlang:phash2({longstr, <<"v">>})]),
    io:format("tag longstr empty ~w~n", [erlang:phash2({longstr, <<>>})]),
    io:format("tag signedint 5 ~w~n", [erlang:phash2({signedint, 5})]),
    io:format("tag long -7 ~w~n", [erlang:phash2({long, -7})]),
    io:format("tag bool true ~w~n", [erlang:phash2({bool, true})]),
    [io:format("k ~w ~w~n", [I, jch(list_to_binary("key-" ++ integer_to_list(I)), 10)]) || I <- lists:seq(0, 9999)].
