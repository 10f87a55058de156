#!/usr/bin/env escript
%%! -pa /usr/lib/rabbitmq/lib/rabbitmq_server-3.10.8/plugins/rabbit_common-3.10.8/ebin
jch(_Key, 1) -> 0;
jch(Key, N) when is_integer(Key) ->
    S = rand:seed_s(exs1024, {Key, Key, Key}),
    jv(-1, 0, N, S);
jch(Key, N) -> jch(erlang:phash2(Key), N).
jv(B, J, N, _) when J >= N -> B;
jv(_, J0, N, S0) -> B = J0, {R, S} = rand:uniform_s(S0), J = trunc((B + 1) / R), jv(B, J, N, S).
hex(B) -> lists:flatten([io_lib:format("~2.16.0b", [X]) || <<X>> <= B]).
main(_) ->
    P = fun(E) -> E end,
    Ints = [0, 1, -1, 5, -7, 134217727, 134217728, -134217728, -134217729, 268435455, 268435456,
            -268435456, 2147483647, -2147483648, 4294967295, 4294967296, 1 bsl 40, -(1 bsl 40),
            576460752303423487, 576460752303423488, -576460752303423488, -576460752303423489,
            9223372036854775807, -9223372036854775808, 1234567890123456789, -987654321987],
    Doubles = [0.0, -0.0, 1.0, -1.0, 1.5, -2.25, 3.141592653589793, 1.0e300, -1.0e-300,
               5.0e-324, 123456789.123, 0.1, 1.0e15],
    Floats = [0.0, 1.5, -2.5, 0.1, 3.4e38, 1.0e-20, 16777216.0],
    Vals = [{long, I} || I <- Ints] ++
           [{signedint, I} || I <- Ints, I >= -2147483648, I =< 2147483647] ++
           [{unsignedint, I} || I <- Ints, I >= 0, I =< 4294967295] ++
           [{timestamp, T} || T <- [0, 1700000000, 268435456, 9223372036854775808, 18446744073709551615]] ++
           [{double, D} || D <- Doubles] ++
           [{float, F} || F <- Floats] ++
           [{decimal, {2, 12345}}, {decimal, {0, 0}}, {decimal, {255, 4294967295}}, {decimal, {3, 268435456}}] ++
           [{bool, true}, {bool, false}, {void, undefined}, {binary, <<1,2,3>>}, {longstr, <<"x">>},
            {byte, -5}, {unsignedbyte, 200}, {short, -300}, {unsignedshort, 60000}] ++
           [{table, []},
            {table, [{<<"a">>, longstr, <<"x">>}]},
            {table, [{<<"n">>, signedint, 1}, {<<"f">>, double, 2.5}, {<<"b">>, bool, true}]},
            {table, [{<<"t">>, table, [{<<"u">>, array, [{long, 1 bsl 40}, {void, undefined}]}]}, {<<"e">>, table, []}]},
            {array, []},
            {array, [{longstr, <<"a">>}]},
            {array, [{longstr, <<"a">>}, {signedint, 1}, {double, -0.5}, {decimal, {1, 7}}]},
            {array, [{array, [{array, []}, {long, -(1 bsl 33)}]}, {table, [{<<"k">>, unsignedbyte, 9}]}]}],
    _ = P,
    lists:foreach(fun({T, V}) ->
        Bin = iolist_to_binary(rabbit_binary_generator:generate_table([{<<"h">>, T, V}])),
        [{<<"h">>, T2, V2}] = rabbit_binary_parser:parse_table(Bin),
        K = {T2, V2},
        io:format("field ~s ~w ~w ~w~n", [hex(Bin), erlang:phash2(K), jch(K, 20), jch(K, 30000)])
    end, Vals).
